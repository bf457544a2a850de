// A real S3-compatible server (s3rver) on 127.0.0.1, holding a copy of a file:// binary cache,
// uploaded through @aws-sdk/client-s3 like any bucket would be filled.
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

const require = createRequire(import.meta.url);

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

export interface S3Server {
  endpoint: string;
  bucket: string;
  cacheUrl: string;
  close(): Promise<void>;
}

function* files(dir: string, prefix = ''): Generator<[string, string]> {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) yield* files(full, `${prefix}${name}/`);
    else yield [`${prefix}${name}`, full];
  }
}

export async function serveCacheOverS3(cacheDir: string, bucket = 'nix-cache'): Promise<S3Server> {
  const S3rver = require('s3rver') as S3rverClass;
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: mkdtempSync(path.join(tmpdir(), 'vendorscan-s3-')),
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver accepts any credentials; the upload is signed like a real client's.
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  for (const [key, file] of files(cacheDir)) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file) }));
  }
  client.destroy();
  return { endpoint, bucket, cacheUrl: `s3://${bucket}?region=us-east-1&endpoint=${endpoint}`, close: () => server.close() };
}
