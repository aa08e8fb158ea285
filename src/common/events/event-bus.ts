import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { EventMap, EventName } from './event-map.js';

/** A typed face on EventEmitter2. A failing listener is logged and never breaks the emitter. */
@Injectable()
export class EventBus {
  private readonly logger = new Logger(EventBus.name);

  constructor(private readonly emitter: EventEmitter2) {}

  emit<K extends EventName>(name: K, payload: EventMap[K]): void {
    this.emitter.emit(name, payload);
  }

  on<K extends EventName>(name: K, listener: (payload: EventMap[K]) => void | Promise<void>): () => void {
    const wrapped = (payload: EventMap[K]) => {
      try {
        const r = listener(payload);
        if (r && typeof (r as Promise<void>).catch === 'function') {
          (r as Promise<void>).catch((e: unknown) => this.logger.error(`listener for ${name} failed: ${describe(e)}`));
        }
      } catch (e) {
        this.logger.error(`listener for ${name} failed: ${describe(e)}`);
      }
    };
    this.emitter.on(name, wrapped);
    return () => this.emitter.off(name, wrapped);
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}
