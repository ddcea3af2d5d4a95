/**
 * The page's engine worker: serves engine requests (see serve.ts), with the page's analyses, on
 * several threads where the page is cross-origin isolated (threads.ts), and keeps its prepared
 * engine for the next visit where it runs on one (snapshot.ts).
 */
import { analysisExtension } from './analysis-serve';
import { serveEngine } from './serve';
import { startThreaded } from './threads';

serveEngine(self as unknown as DedicatedWorkerGlobalScope, { extension: analysisExtension, threaded: startThreaded, keepEngine: true });
