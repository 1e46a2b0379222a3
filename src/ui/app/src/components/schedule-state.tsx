/** A schedule's state as a badge: active, or paused (with the note as its title). */
export function ScheduleStateBadge({ paused, note }: { paused: boolean; note?: string }) {
  return (
    <span className={`badge ${paused ? 'schedule-paused' : 'schedule-active'}`} data-testid="schedule-state" data-paused={paused} title={note}>
      {paused ? '❚❚ paused' : '● active'}
    </span>
  );
}
