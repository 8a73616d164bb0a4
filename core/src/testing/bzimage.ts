/**
 * A bzImage writer for tests: the boot sector and setup sectors with the boot protocol's
 * setup header, then a payload where `payload_offset` says (the layout libxenguest's
 * bzImage loader reads).
 *
 * @module
 */

/** What {@link buildBzImage} writes besides the payload. */
export interface BzImageSpec {
  /** `setup_sects` (default 4). */
  readonly setupSects?: number;
  /** Boot protocol `version` (default 0x020f, Linux 6.1's). */
  readonly version?: number;
  /** Bytes between the end of setup and the payload (`payload_offset`, default 0x40). */
  readonly gap?: number;
  /** `payload_offset` written in the header (default `gap`; the payload goes after `gap`). */
  readonly payloadOffset?: number;
  /** `payload_length` (default: the payload's length). */
  readonly payloadLength?: number;
  /** Bytes after the payload (default 16). */
  readonly tail?: number;
}

/** A bzImage carrying `payload` (already compressed) as `spec` says. */
export function buildBzImage(payload: Uint8Array, spec: BzImageSpec = {}): Uint8Array {
  const setupSects = spec.setupSects ?? 4;
  const gap = spec.gap ?? 0x40;
  const start = (setupSects + 1) * 512 + gap;
  const file = new Uint8Array(start + payload.length + (spec.tail ?? 16));
  const v = new DataView(file.buffer);
  file[0x1f1] = setupSects;
  v.setUint16(0x1fe, 0xaa55, true);
  file.set([0x48, 0x64, 0x72, 0x53], 0x202); // "HdrS"
  v.setUint16(0x206, spec.version ?? 0x020f, true);
  v.setUint32(0x248, spec.payloadOffset ?? gap, true);
  v.setUint32(0x24c, spec.payloadLength ?? payload.length, true);
  file.set(payload, start);
  return file;
}
