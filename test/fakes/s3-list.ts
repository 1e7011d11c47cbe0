/** The fake S3's objects and its ListObjectsV2 answer (`prefix`, `delimiter`, `start-after`, `max-keys`, `continuation-token`). */

export interface S3Object {
  body: Buffer;
  etag: string;
  modified: Date;
}

export function listV2(name: string, bucket: Map<string, S3Object>, params: URLSearchParams): string {
  const prefix = params.get('prefix') ?? '';
  const delimiter = params.get('delimiter') ?? '';
  const maxKeys = Math.min(Number(params.get('max-keys') ?? 1000) || 1000, 1000);
  const token = params.get('continuation-token');
  const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (params.get('start-after') ?? '');
  const contents: [string, S3Object][] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let last = '';
  for (const key of [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort()) {
    let common: string | undefined;
    if (delimiter) {
      const i = key.indexOf(delimiter, prefix.length);
      if (i >= 0) common = key.slice(0, i + delimiter.length);
    }
    if (common !== undefined && prefixes.includes(common)) continue;
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (common !== undefined) prefixes.push(common);
    else contents.push([key, bucket.get(key) as S3Object]);
    last = common ?? key;
  }
  // A common prefix is skipped whole on the next page.
  const nextAfter = delimiter && prefixes.includes(last) ? `${last}\uffff` : last;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    `<Name>${xml(name)}</Name><Prefix>${xml(prefix)}</Prefix>`,
    delimiter ? `<Delimiter>${xml(delimiter)}</Delimiter>` : '',
    `<KeyCount>${contents.length + prefixes.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>`,
    token ? `<ContinuationToken>${xml(token)}</ContinuationToken>` : '',
    truncated ? `<NextContinuationToken>${Buffer.from(nextAfter, 'utf8').toString('base64url')}</NextContinuationToken>` : '',
    ...contents.map(([key, o]) => `<Contents><Key>${xml(key)}</Key><LastModified>${o.modified.toISOString()}</LastModified><ETag>${xml(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`),
    ...prefixes.map((p) => `<CommonPrefixes><Prefix>${xml(p)}</Prefix></CommonPrefixes>`),
    '</ListBucketResult>',
  ].join('');
}

export function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
