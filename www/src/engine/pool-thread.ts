/**
 * One thread of the threaded engine's pool (threads.ts starts it from the engine worker):
 * instantiates the threaded build on the engine's shared memory, says so, then runs rayon's
 * thread until the engine worker ends. If the thread traps (a panic or a failed allocation abort)
 * or anything else throws here, it tells the page on its alarm port: the engine worker, waiting
 * for this thread's part, cannot hear it.
 */
import { messageOf, trapInWords } from './errors';
import type { PoolThreadAlarm, PoolThreadReply, PoolThreadStart, ThreadedGlue } from './threads';

const scope = self as unknown as DedicatedWorkerGlobalScope;

/** Why this thread stopped, in words, as the page's notice ends "The engine stopped while running …: ". */
function stoppedInWords(e: unknown): string {
  return e instanceof WebAssembly.RuntimeError ? `one of its threads ${trapInWords(e)}` : `one of its threads failed (${messageOf(e)})`;
}

scope.addEventListener(
  'message',
  (event: MessageEvent<PoolThreadStart>) => {
    const { glueUrl, module, memory, alarm } = event.data;
    let alarmed = false;
    /** Tells the page, once, that this thread stopped. */
    const stopped = (e: unknown): void => {
      if (alarmed) return;
      alarmed = true;
      const said = stoppedInWords(e);
      console.error(`bertscope: a pool thread of the engine stopped: ${said}`);
      alarm.postMessage({ stopped: said } satisfies PoolThreadAlarm);
    };
    void (async () => {
      let glue: ThreadedGlue;
      try {
        glue = (await import(/* @vite-ignore */ glueUrl)) as ThreadedGlue;
        glue.initSync({ module, memory });
      } catch (e) {
        // The engine worker hears this (it is still starting the pool) and runs on one thread.
        scope.postMessage({ ready: false, error: messageOf(e) } satisfies PoolThreadReply);
        return;
      }
      scope.postMessage({ ready: true } satisfies PoolThreadReply);
      // Whatever else goes wrong in this worker from now on also leaves the engine waiting.
      scope.addEventListener('error', (error: ErrorEvent) => stopped(error.error ?? error.message));
      scope.addEventListener('unhandledrejection', (rejection: PromiseRejectionEvent) => stopped(rejection.reason));
      try {
        glue.runPoolThread();
      } catch (e) {
        stopped(e);
      }
    })();
  },
  { once: true },
);
