// Every fuzz target, in the order the CLI runs them. Seeds are in fuzz/corpus/<name>/ (fuzz/seeds.ts).
import type { FuzzTarget } from '../harness.js';
import { target as amf0 } from './amf0.js';
import { target as amf3 } from './amf3.js';
import { target as flvReader } from './flv-reader.js';
import { target as flvTags } from './flv-tags.js';
import { target as keyframeAnnexB } from './keyframe-annexb.js';
import { target as flvKeyframes } from './flv-keyframes.js';
import { target as flvScan } from './flv-scan.js';
import { target as rtmpChunks } from './rtmp-chunks.js';
import { target as rtmpHandshake } from './rtmp-handshake.js';
import { target as rtmpSession } from './rtmp-session.js';
import { target as h264Sps } from './h264-sps.js';
import { target as hevcHvcc } from './hevc-hvcc.js';
import { target as hevcSps } from './hevc-sps.js';
import { target as av1Av1c } from './av1-av1c.js';
import { target as av1SequenceHeader } from './av1-sequence-header.js';
import { target as aacAsc } from './aac-asc.js';
import { target as aacAdts } from './aac-adts.js';
import { target as mp3Header } from './mp3-header.js';
import { target as mpegts } from './mpegts.js';
import { target as hlsPlaylist } from './hls-playlist.js';
import { target as hlsSegmenter } from './hls-segmenter.js';
import { target as httpPaths } from './http-paths.js';
import { target as httpRange } from './http-range.js';
import { target as chat } from './chat.js';
import { target as remoteFeed } from './remote-feed.js';
import { target as transcodeProgress } from './transcode-progress.js';
import { target as thumbsVtt } from './thumbs-vtt.js';
import { target as routeAnswer } from './route-answer.js';
import { target as playlistContinuity } from './playlist-continuity.js';
import { target as recordingsMerge } from './recordings-merge.js';

export const TARGETS: readonly FuzzTarget[] = [
  amf0, amf3, flvReader, flvTags, keyframeAnnexB, flvKeyframes, flvScan, rtmpChunks, rtmpHandshake, rtmpSession, h264Sps, hevcHvcc, hevcSps, av1Av1c, av1SequenceHeader, aacAsc, aacAdts, mp3Header, mpegts, hlsSegmenter, hlsPlaylist, httpPaths, httpRange, chat, remoteFeed, transcodeProgress, thumbsVtt, routeAnswer, playlistContinuity, recordingsMerge,
];
