// JSON schemas of the decision answers (advisories, affected copies, run diffs): the OpenAPI doc
// publishes them and Fastify serialises by them, so a field the schema lacks never leaks out.
const nullableString = { type: ['string', 'null'] } as const;

export const runCoverageSchema = {
  type: 'object',
  description: 'The run an answer comes from, and how complete it is.',
  required: ['runId', 'kind', 'scope', 'state', 'startedAt', 'finishedAt', 'rulesetDigest', 'total', 'scanned', 'reused', 'notInCache', 'failed', 'pending', 'complete', 'incomplete'],
  properties: {
    runId: { type: 'integer' },
    kind: { type: 'string', enum: ['library-scan', 'adhoc-scan'] },
    scope: {
      type: 'object',
      required: ['kind', 'channel', 'revision', 'label'],
      properties: { kind: { type: 'string', enum: ['channel', 'paths', 'path'] }, channel: nullableString, revision: nullableString, label: { type: 'string' } },
    },
    state: { type: 'string' },
    startedAt: nullableString,
    finishedAt: nullableString,
    rulesetDigest: { type: 'string' },
    total: { type: 'integer' },
    scanned: { type: 'integer' },
    reused: { type: 'integer' },
    notInCache: { type: 'integer' },
    failed: { type: 'integer' },
    pending: { type: 'integer' },
    complete: { type: 'boolean' },
    incomplete: { ...nullableString, description: 'why the answer may be missing copies, in words' },
  },
} as const;

export const copySchema = {
  type: 'object',
  description: 'A copy of a library found in a file of a store path, with the advisories it falls under and the package it belongs to.',
  required: ['storePath', 'pname', 'packageVersion', 'file', 'library', 'version', 'versionRaw', 'confidence', 'evidence', 'vendored', 'linkage', 'advisories', 'attribute', 'maintainers', 'homepage', 'position', 'links'],
  properties: {
    storePath: { type: 'string' },
    pname: { type: 'string', description: 'from the store path name (Nix parseDrvName)' },
    packageVersion: { ...nullableString, description: 'from the store path name' },
    file: { type: 'string', description: 'path inside the store path; `!/` separates archive members' },
    library: { type: 'string' },
    version: { ...nullableString, description: 'the library version read from the binary; null: unknown' },
    versionRaw: nullableString,
    confidence: { type: 'string', enum: ['high', 'medium', 'low'] },
    evidence: { type: 'string' },
    vendored: { type: 'boolean' },
    linkage: { type: 'string', enum: ['copy', 'built-against', 'unknown'] },
    advisories: { type: 'array', items: { type: 'string' }, description: 'OSV ids of the advisories the copy falls under' },
    attribute: { ...nullableString, description: 'nixpkgs attribute path (needs a packages file)' },
    maintainers: { type: 'array', items: { type: 'string' }, description: 'GitHub handles (needs a packages file)' },
    homepage: nullableString,
    position: { ...nullableString, description: 'meta.position: file:line of the package definition' },
    links: { type: 'object', required: ['search', 'hydra'], properties: { search: nullableString, hydra: nullableString } },
    rule: { type: 'string', description: 'the signature rule that decided the version (vendors answer only)' },
    triage: {
      type: 'array',
      description: 'only with includeSuppressed: the triage entries that would hide this copy',
      items: { type: 'object', required: ['reason', 'until'], properties: { reason: { type: 'string' }, until: nullableString } },
    },
  },
} as const;

const advisoryIds = { type: 'array', items: { type: 'string' } } as const;

export const advisoryListSchema = {
  type: 'object',
  required: ['run', 'suppressed', 'advisories'],
  properties: {
    run: runCoverageSchema,
    suppressed: { type: 'integer', description: 'copies the triage file hid from the counts' },
    advisories: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'aliases', 'summary', 'published', 'modified', 'libraries', 'affected', 'cannotTell'],
        properties: {
          id: { type: 'string' },
          aliases: advisoryIds,
          summary: nullableString,
          published: nullableString,
          modified: { type: 'string' },
          libraries: { type: 'array', items: { type: 'string' } },
          affected: { type: 'integer', description: 'copies in range' },
          cannotTell: { type: 'integer', description: 'copies of a concerned library whose version is unknown or unreadable' },
        },
      },
    },
  },
} as const;

export const affectedSchema = {
  type: 'object',
  required: ['run', 'advisory', 'affected', 'cannotTell', 'totalAffected', 'totalCannotTell', 'suppressed'],
  properties: {
    run: runCoverageSchema,
    advisory: {
      type: 'object',
      required: ['id', 'aliases', 'summary', 'details', 'references', 'published', 'modified'],
      properties: {
        id: { type: 'string' },
        aliases: advisoryIds,
        summary: nullableString,
        details: nullableString,
        references: { type: 'array', items: { type: 'object', required: ['type', 'url'], properties: { type: { type: 'string' }, url: { type: 'string' } } } },
        published: nullableString,
        modified: { type: 'string' },
      },
    },
    affected: { type: 'array', items: copySchema },
    cannotTell: { type: 'array', items: copySchema },
    totalAffected: { type: 'integer' },
    totalCannotTell: { type: 'integer' },
    suppressed: { type: 'integer', description: 'copies the triage file hid' },
  },
} as const;

const withAdvisories = { type: 'object', required: ['copy', 'advisories'], properties: { copy: copySchema, advisories: advisoryIds } } as const;

export const diffSchema = {
  type: 'object',
  required: ['from', 'to', 'appeared', 'disappeared', 'changed', 'newlyAffected', 'noLongerAffected', 'suppressed'],
  properties: {
    from: runCoverageSchema,
    to: runCoverageSchema,
    appeared: { type: 'array', items: copySchema },
    disappeared: { type: 'array', items: copySchema },
    changed: { type: 'array', items: { type: 'object', required: ['before', 'after'], properties: { before: copySchema, after: copySchema } } },
    newlyAffected: { type: 'array', items: withAdvisories },
    noLongerAffected: { type: 'array', items: withAdvisories },
    suppressed: { type: 'integer', description: 'copies the triage file hid, both runs together' },
  },
} as const;

export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, code: { type: 'string' }, parameter: { type: 'string' }, message: { type: 'string' } },
} as const;
