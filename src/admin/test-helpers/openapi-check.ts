/** Checks an OpenAPI 3.1 document and real answers against it, for the admin's tests: the
 * document must validate, and every answer's status must be documented with a body matching its
 * schema, so an answer that drifts from the document fails a test. */
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

type Doc = Record<string, unknown> & {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
  >;
};

/** Throws with the validator's errors when `doc` is no valid OpenAPI document. */
export async function assertValidDocument(doc: Record<string, unknown>): Promise<void> {
  const r = await new Validator().validate(doc);
  if (!r.valid)
    throw new Error(`the OpenAPI document is not valid: ${JSON.stringify(r.errors, null, 2).slice(0, 4000)}`);
}

/** The GET operations of the document (path templates as written). */
export function getPaths(doc: Record<string, unknown>): string[] {
  return Object.entries((doc as Doc).paths)
    .filter(([, item]) => item.get !== undefined)
    .map(([p]) => p);
}

/** A checker of answers: `check(method, template, status, contentType, body)` returns what is
 * wrong, or undefined when the answer is what the document says. */
export function answerChecker(
  doc: Record<string, unknown>,
): (
  method: string,
  template: string,
  status: number,
  contentType: string,
  body: string,
) => string | undefined {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (formats as unknown as (a: Ajv2020) => void)(ajv);
  const compiled = new Map<object, ValidateFunction>();
  return (method, template, status, contentType, body) => {
    const op = (doc as Doc).paths[template]?.[method.toLowerCase()];
    if (!op) return `${method} ${template} is not in the document`;
    const res = op.responses[String(status)];
    if (!res)
      return `${method} ${template} answered ${status}, which the document does not list (${Object.keys(op.responses).join(', ')})`;
    const type = contentType.split(';', 1)[0].trim();
    if (!res.content)
      return body === ''
        ? undefined
        : `${method} ${template} ${status} has a body the document does not describe`;
    const media = res.content[type];
    if (!media)
      return `${method} ${template} ${status} answered ${type}, the document says ${Object.keys(res.content).join(', ')}`;
    if (type !== 'application/json') return typeof body === 'string' ? undefined : 'not text';
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return `${method} ${template} ${status}: the body is not JSON`;
    }
    let v = compiled.get(media.schema);
    if (!v) compiled.set(media.schema, (v = ajv.compile(media.schema)));
    if (v(value)) return undefined;
    return `${method} ${template} ${status}: the body does not match the document: ${ajv.errorsText(v.errors)}\n${body.slice(0, 1500)}`;
  };
}
