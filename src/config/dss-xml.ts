/** Reading DSS's XML files (streamingserver.xml, relayconfig.xml) the way DSS wrote them: `&`
 * left unescaped in values, no entities, attributes as written, element order kept. Shared by
 * `rivulet import-dss` and the relay config reader. */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** Where the text is not well-formed, or undefined when it is. DSS took `&` as plain text (its
 * admin wrote passwords unescaped): the structure is checked with every `&` escaped, so only real
 * mistakes (an unclosed tag, a stray `<`) count. */
export function dssXmlFault(body: string): { line: number; msg: string } | undefined {
  const valid = XMLValidator.validate(body.replace(/&/g, '&amp;'), { allowBooleanAttributes: false });
  return valid === true ? undefined : { line: valid.err.line, msg: valid.err.msg };
}

/** A parser giving elements in file order with their attributes and text untouched (no value
 * typing, no trimming, no entity expansion); `captureMetaData` adds each element's offset. */
export function dssXmlParser(opts: { maxNestedTags: number; captureMetaData?: boolean }): XMLParser {
  return new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    captureMetaData: opts.captureMetaData ?? false,
    maxNestedTags: opts.maxNestedTags,
  });
}
