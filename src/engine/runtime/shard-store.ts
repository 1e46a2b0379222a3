import type { RunCommit, Store, TaskEntry, TimerEntry } from '../../store/store.ts';

/**
 * The store as one shard runtime sees it: every commit is stamped with the shard and the epoch
 * the runtime holds it at — the one place the fence is stamped, so no code path of the engine
 * can commit to a shard without it — and the timer and task scans look at this shard alone.
 * Everything else is the store itself.
 */
export function shardStore(store: Store, shard: number, epoch: number): Store {
  const view: Pick<Store, 'commit' | 'listDueTimers' | 'nextTimer' | 'listTasks'> = {
    commit: (commit: RunCommit) => store.commit({ ...commit, shard, epoch }),
    listDueTimers: (dueBefore: number, limit: number): Promise<TimerEntry[]> => store.listDueTimers(dueBefore, limit, shard),
    nextTimer: (): Promise<TimerEntry | undefined> => store.nextTimer(shard),
    listTasks: (): Promise<TaskEntry[]> => store.listTasks(shard),
  };
  return new Proxy(store, {
    get(target, property) {
      if (Object.hasOwn(view, property)) return view[property as keyof typeof view];
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
