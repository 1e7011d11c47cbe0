/**
 * What an isolate made of stored rows (a deployment, an opened credential, an MCP server), kept by row id
 * while the row's stamp (its content) is unchanged: a refresh every few seconds opens (decrypts) only what
 * changed, and an unchanged row keeps the very object made of it (caches keyed by that object live on).
 */
export class StampedRows<V> {
  private readonly rows = new Map<string, { stamp: string; value: V }>();
  private seen = new Set<string>();

  /** The value of row `id` as `stamp` says it is: the kept one, else `open`'s (kept for next time). */
  async get(id: string, stamp: string, open: () => Promise<V>): Promise<V> {
    this.seen.add(id);
    let entry = this.rows.get(id);
    if (entry?.stamp !== stamp) {
      entry = { stamp, value: await open() };
      this.rows.set(id, entry);
    }
    return entry.value;
  }

  /** The stamp a row was last kept with. */
  stampOf(id: string): string | undefined {
    return this.rows.get(id)?.stamp;
  }

  /** Ends a read of every row: the rows it did not `get` are gone from the table and dropped. */
  forgetUnseen(): void {
    for (const id of this.rows.keys()) if (!this.seen.has(id)) this.rows.delete(id);
    this.seen = new Set();
  }
}
