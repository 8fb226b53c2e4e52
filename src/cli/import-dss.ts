/** `rivulet import-dss STREAMINGSERVER_XML [--out FILE]`. STUB: filled in by the import work. */
export function importDss(_argv: string[]): Promise<number> {
  process.stderr.write('rivulet import-dss: not yet\n');
  return Promise.resolve(2);
}
