import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import express from 'express';
import { limitKey } from '../shared/address.js';
import { clientAddress } from './client-address.js';
import type { TrustFn } from './client-address.js';

const fakeReq = (remoteAddress: string, xff?: string): IncomingMessage =>
  ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;

/** The same compiled trust function express uses for req.ip. */
function trustFn(setting: boolean | string | number): TrustFn {
  const app = express();
  app.set('trust proxy', setting);
  return app.get('trust proxy fn') as TrustFn;
}

test('IPv6 clients are keyed by /64; IPv4 and IPv4-mapped alike', () => {
  assert.equal(limitKey('2001:db8:1:2:aaaa::1'), limitKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
  assert.notEqual(limitKey('2001:db8:1:2::1'), limitKey('2001:db8:1:3::1'));
  assert.equal(limitKey('2001:db8:1:2::1'), '20010db800010002::/64');
  assert.equal(limitKey('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(limitKey('10.1.2.3'), '10.1.2.3');
  assert.notEqual(limitKey('10.1.2.3'), limitKey('10.1.2.4'));
  assert.equal(limitKey('garbage'), 'garbage');
});

test('X-Forwarded-For counts only behind trusted proxies, as express resolves req.ip', () => {
  assert.equal(clientAddress(fakeReq('10.0.0.1', '1.2.3.4'), undefined), '10.0.0.1');
  assert.equal(clientAddress(fakeReq('10.0.0.1', '1.2.3.4'), trustFn(true)), '1.2.3.4');
  assert.equal(clientAddress(fakeReq('10.0.0.1', '9.9.9.9, 1.2.3.4'), trustFn(1)), '1.2.3.4');
  assert.equal(clientAddress(fakeReq('10.0.0.1', '9.9.9.9, 1.2.3.4'), trustFn(true)), '9.9.9.9');
  // the proxy is trusted by subnet: a client-made header from an untrusted peer is ignored
  assert.equal(clientAddress(fakeReq('203.0.113.5', '1.2.3.4'), trustFn('loopback, 10.0.0.0/8')), '203.0.113.5');
  assert.equal(clientAddress(fakeReq('10.0.0.1'), trustFn(true)), '10.0.0.1');
});
