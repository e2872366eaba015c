#!/usr/bin/env node
// The npm peer: wechatpay-axios-plugin, public-key mode, pointed at the replay server on 127.0.0.1.
// Usage: node bench.js '<json spec>' (keys, port, calls, concurrency, warmup); prints one JSON line with
// the same fields as benchmarks/worker.py: process CPU (user+system, every thread) and wall time.
'use strict';

const fs = require('fs');
const path = require('path');

const { Wechatpay } = require('wechatpay-axios-plugin');

const MCHID = '1900000001';
const APPID = 'wxd678efh567hg6787';
const OPENID = 'oHkLxt_htg84TUEbzvlMwQzVDBqo';
const PUB_KEY_ID = 'PUB_KEY_ID_0114232134912410000000000000000001';

async function drive(call, calls, concurrency) {
  let remaining = calls;
  async function lane() {
    while (remaining > 0) {
      remaining -= 1;
      await call();
    }
  }
  const lanes = [];
  for (let i = 0; i < Math.min(concurrency, Math.max(calls, 1)); i += 1) lanes.push(lane());
  await Promise.all(lanes);
}

async function main() {
  const spec = JSON.parse(process.argv[2]);
  const keysDir = spec.keys;
  const meta = JSON.parse(fs.readFileSync(path.join(keysDir, 'meta.json'), 'utf8'));
  const wxpay = new Wechatpay({
    mchid: MCHID,
    serial: meta.merchant_serial,
    privateKey: fs.readFileSync(path.join(keysDir, 'merchant_key.pem'), 'utf8'),
    certs: { [PUB_KEY_ID]: fs.readFileSync(path.join(keysDir, 'platform_pub.pem'), 'utf8') },
    baseURL: `http://127.0.0.1:${Number(spec.port)}/`,
  });

  async function call() {
    const response = await wxpay.v3.marketing.busifavor.users._openid_.coupons.get({
      params: { appid: APPID, offset: 0, limit: 20 },
      openid: OPENID,
      headers: { 'Wechatpay-Serial': PUB_KEY_ID },
    });
    if (response.status !== 200 || !response.data || !Array.isArray(response.data.data)) {
      throw new Error(`unexpected answer ${response.status}`);
    }
    return response;
  }

  await drive(call, Number(spec.warmup), Number(spec.concurrency));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await drive(call, Number(spec.calls), Number(spec.concurrency));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const result = {
    bench: 'node',
    calls: Number(spec.calls),
    cpu_s: (cpu.user + cpu.system) / 1e6,
    wall_s: wall,
    versions: {
      node: process.versions.node,
      'wechatpay-axios-plugin': require('wechatpay-axios-plugin/package.json').version,
      axios: require('axios/package.json').version,
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  if (err && err.response) process.stderr.write(`${JSON.stringify(err.response.data)}\n`);
  process.exit(1);
});
