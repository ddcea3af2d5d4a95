/**
 * The page's engine worker: serves engine requests (see serve.ts), with the page's analyses, on
 * several threads where the page is cross-origin isolated (threads.ts).
 */
import { analysisExtension } from './analysis-serve';
import { serveEngine } from './serve';
import { startThreaded } from './threads';

serveEngine(self as unknown as DedicatedWorkerGlobalScope, analysisExtension, startThreaded);
