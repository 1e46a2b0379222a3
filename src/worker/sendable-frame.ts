import { decode, encode } from '../common/codec.ts';

/**
 * Encodes a frame for the server, or says why it cannot be sent: over the frame limit, or (with
 * `verify`) holding a value the server's decoder refuses (an Error, a Set, a RegExp…). Refused
 * frames would otherwise close the connection — and a report, sent again after every
 * reconnect, would close every connection.
 *
 * @example
 * const bytes = encodeSendable({ t: 'complete', id, taskToken, output }, 4 * 2 ** 20);
 * if (typeof bytes === 'string') failTheAttempt(`the result ${bytes}`);
 */
export function encodeSendable(frame: Record<string, unknown>, maxFrameBytes: number, verify = true): Buffer | string {
  let bytes: Buffer;
  try {
    bytes = encode(frame);
  } catch (error) {
    return `cannot be encoded: ${(error as Error).message}`;
  }
  if (bytes.length > maxFrameBytes) return `is ${bytes.length} bytes encoded, over the ${maxFrameBytes}-byte frame limit`;
  if (verify) {
    try {
      decode(bytes);
    } catch (error) {
      return `holds a value that cannot be sent: ${(error as Error).message}`;
    }
  }
  return bytes;
}
