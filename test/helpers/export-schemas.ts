// Validators for the exports, built from the OFFICIAL schemas kept in test/fixtures/schemas/:
// CycloneDX bom-1.6 (draft-07, with the spdx and jsf schemas it references) from
// CycloneDX/specification schema/ at e02a34ae42a48239f54e04f75280b9000b29f1fb, and SARIF 2.1.0
// errata01 (draft-04, the OASIS-published one) from oasis-tcs/sarif-spec
// sarif-2.1/schema/sarif-schema-2.1.0.json at e0583813964ec43cea53b6b531b402866095ed1f. Each is
// compiled with the Ajv class of its draft, with every format it uses checked (ajv-formats, plus
// iri-reference / idn-email, which ajv-formats lacks); strict mode is off because the schemas use
// annotation keywords Ajv does not know (meta:enum, deprecated in draft-07).
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';

const dir = new URL('../fixtures/schemas/', import.meta.url);
const load = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as Record<string, unknown>;

/** An IRI is a URI that may hold non-ASCII characters: percent-encode those, then check as a URI reference. */
const uriReference = fullFormats['uri-reference'] as RegExp;
const iriReference = (s: string): boolean => uriReference.test(s.replace(/[^\x00-\x7f]/gu, (ch) => encodeURIComponent(ch)));
const email = fullFormats.email as RegExp;
const idnEmail = (s: string): boolean => email.test(s.replace(/[^\x00-\x7f]/gu, 'x'));

let cdx: ValidateFunction | null = null;
let sarif: ValidateFunction | null = null;

export function cycloneDxValidator(): ValidateFunction {
  if (cdx) return cdx;
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
  addFormats.default(ajv);
  ajv.addFormat('iri-reference', iriReference);
  ajv.addFormat('idn-email', idnEmail);
  ajv.addSchema(load('spdx.schema.json'));
  ajv.addSchema(load('jsf-0.82.schema.json'));
  cdx = ajv.compile(load('bom-1.6.schema.json'));
  return cdx;
}

export function sarifValidator(): ValidateFunction {
  if (sarif) return sarif;
  const ajv = new AjvDraft04.default({ allErrors: true, strict: false, validateFormats: true });
  addFormats.default(ajv);
  sarif = ajv.compile(load('sarif-schema-2.1.0.json'));
  return sarif;
}

/** The schema's complaints about a document, as readable lines ([] when it is valid). */
export function schemaErrors(validate: ValidateFunction, doc: unknown): string[] {
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
