// FLV tag bodies (= RTMP audio/video/data message payloads), legacy and enhanced RTMP: the tag header
// parsers, the origin's classification of a packet, and script data (onMetaData).
import fc from 'fast-check';
import { parseScriptData } from '../../src/media/flv/script.js';
import { FlvError, parseAudioTagHeader, parseVideoTagHeader } from '../../src/media/flv/tag-header.js';
import { TagType } from '../../src/media/packet.js';
import { ms } from '../../src/media/time.js';
import { classify } from '../../src/hub/out-packet.js';
import type { FuzzTarget } from '../harness.js';
import { text } from './util.js';

const TYPES = [TagType.Video, TagType.Audio, TagType.Script] as const;

export const target: FuzzTarget = {
  name: 'flv-tags',
  description: 'parseVideoTagHeader, parseAudioTagHeader, parseScriptData and classify; byte 0 picks the tag type',
  // parseScriptData wraps AMF errors as FlvError: an AmfError escaping it is a finding.
  expected: [FlvError],
  run(input) {
    if (input.length === 0) return;
    const type = TYPES[input[0]! % 3]!;
    const payload = input.subarray(1);
    // classify must never throw: it runs on every publisher packet.
    classify({ type, timestamp: ms(0), payload });
    if (type === TagType.Video) parseVideoTagHeader(payload);
    else if (type === TagType.Audio) parseAudioTagHeader(payload);
    else parseScriptData(payload);
  },
  arbitrary: fc
    .tuple(
      fc.nat(2),
      // Legacy (codec id 7/12, AAC 10, MP3 2) and enhanced (0x8x, 0x9x) first bytes; FourCCs after them.
      fc.constantFrom(0x17, 0x27, 0x1c, 0x57, 0xaf, 0x2f, 0x90, 0x91, 0x93, 0x94, 0x96, 0x97, 0x80, 0xd1, 0x50, 0x97),
      fc.constantFrom('avc1', 'hvc1', 'av01', 'vp09', 'mp4a', '.mp3', ''),
      fc.uint8Array({ maxLength: 24 }),
    )
    .map(([t, b0, fourCc, rest]) => new Uint8Array(Buffer.concat([Buffer.from([t, b0]), text(fourCc), Buffer.from(rest)]))),
  dictionary: [text('hvc1'), text('avc1'), text('av01'), text('mp4a'), text('.mp3'), text('onMetaData'), text('@setDataFrame'), Buffer.from([0x02, 0x00, 0x0a])],
};
