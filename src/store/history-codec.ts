import { decode } from '../common/codec.ts';
import { HistoryCorruptedError } from '../common/errors.ts';
import type { HistoryEvent } from '../common/history.ts';
import { unseal } from './checksum.ts';

/**
 * Reads back one stored history event, the same way in every backend: its checksum must hold,
 * it must decode, and it must be the event expected at that place (`seq`), or the run's history
 * is reported damaged at that seq (HISTORY_CORRUPTED), for that run alone.
 *
 * @example
 * rows.map((row, i) => openHistoryEvent(runId, fromSeq + i, row.event))
 */
export function openHistoryEvent(runId: string, expectedSeq: number, stored: Uint8Array): HistoryEvent {
  const payload = unseal(stored);
  if (!payload) throw new HistoryCorruptedError(runId, expectedSeq);
  let event: HistoryEvent | undefined;
  try {
    event = decode(payload) as HistoryEvent;
  } catch {
    throw new HistoryCorruptedError(runId, expectedSeq);
  }
  if (event?.seq !== expectedSeq) throw new HistoryCorruptedError(runId, expectedSeq);
  return event;
}
