import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AacError } from './aac/error.js';
import { AmfError } from './amf/error.js';
import { Av1Error } from './av1/error.js';
import { MediaFormatError } from './error.js';
import { FlvError } from './flv/tag-header.js';
import { H264Error } from './h264/error.js';
import { HevcError } from './hevc/error.js';
import { Mp4Error } from './mp4/error.js';
import { PlaylistError } from './hls/playlist.js';
import { Mp3Error } from './mp3/frame-header.js';
import { TsError } from './mpegts/error.js';

test('every format error is a MediaFormatError and keeps its own name', () => {
  for (const E of [AacError, AmfError, Av1Error, FlvError, H264Error, HevcError, Mp3Error, Mp4Error, PlaylistError, TsError]) {
    const e = new E('x');
    assert.ok(e instanceof MediaFormatError && e instanceof Error, E.name);
    assert.equal(e.name, E.name);
  }
});
