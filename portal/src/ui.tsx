import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { RequestStatus } from './api/client';
import { statusText } from './format';

export function StatusBadge({ status }: { status: RequestStatus | undefined }) {
  return <span class={`status status-${(status ?? 'unknown').toLowerCase()}`}>{statusText(status)}</span>;
}

/** A refusal or failure, read out by screen readers as soon as it appears. */
export function ErrorNote({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <p class="note note-error" role="alert">
      {message}
    </p>
  );
}

export function Notice({ message }: { message: string | undefined }) {
  return (
    <p class="note note-ok" role="status" aria-live="polite">
      {message ?? ''}
    </p>
  );
}

/** A page's heading, focused on arrival so that keyboard and screen-reader users start at the top. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <h1 tabIndex={-1} ref={heading}>
      {children}
    </h1>
  );
}

export function Field(props: { label: string; hint?: string; id: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads with `load` now and every `everyMs` while `poll` says so (live status without a socket);
 * an error keeps the last good data beside it.
 */
export function useLoaded<T>(
  load: () => Promise<T>,
  deps: unknown[],
  everyMs = 0,
  poll?: (data: T) => boolean,
): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const run = () => {
      load().then(
        (data) => {
          if (!live) return;
          setState({ data, loading: false });
          if (everyMs > 0 && (!poll || poll(data))) timer = window.setTimeout(run, everyMs);
        },
        (err: unknown) => {
          if (!live) return;
          setState((before) => ({
            data: before.data,
            error: err instanceof Error ? err.message : String(err),
            loading: false,
          }));
          if (everyMs > 0) timer = window.setTimeout(run, everyMs * 2);
        },
      );
    };
    run();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((count) => count + 1) };
}
