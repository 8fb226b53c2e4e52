/** A frame of a stream track: the RTP packets sharing one timestamp, built once by the track and
 * shared by every reader, with the per-protocol forms readers ask for memoized on it. */
/** Writes a frame in one protocol's form (RTSP interleaved bytes on one channel, later access
 * units for HLS or ICY). `Frame.form` memoizes the result by the function's identity: use
 * one function per form (not a fresh closure per call), so every reader shares one build. */
export type FrameForm = (frame: Frame) => Buffer;

/** A frame: the packets sharing one RTP timestamp, built once and shared by every reader. */
export class Frame {
  readonly packets: Buffer[] = [];
  /** Sum of packet lengths (headers included). */
  bytes = 0;
  /** Forms built so far (usually one: the RTSP channel every TCP viewer of the track uses). */
  #forms: Map<FrameForm, Buffer> | undefined;

  constructor(
    readonly ts: number,
    readonly firstSeq: number,
    /** A decoder can start on this frame (set while its packets arrive). */
    public key: boolean,
    /** performance.now() when its first packet arrived. */
    readonly arrival: number,
  ) {}

  add(p: Buffer): void {
    this.packets.push(p);
    this.bytes += p.length;
  }

  /** The frame in the form `build` writes, built on first use and then shared: the live layer
   * knows no protocol, the protocol side knows no frame's lifetime. Only for frames whose
   * packets are complete (delivered or cached). */
  form(build: FrameForm): Buffer {
    let b = this.#forms?.get(build);
    if (b === undefined) {
      b = build(this);
      (this.#forms ??= new Map()).set(build, b);
    }
    return b;
  }
}
