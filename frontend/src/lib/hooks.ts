// Loading data from the API into a page, with errors kept for display.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";

/** The state of one load: data, the error the API gave, and a way to load again. */
export type Loaded<T> = {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
};

/**
 * Runs `load` when `key` changes (and on `reload`), keeping only the latest answer. Data of an
 * earlier key is never returned for a new one (a page must not show run A under run B's URL);
 * a reload keeps the data on screen until the new answer arrives.
 */
export function useLoad<T>(load: () => Promise<T>, key: unknown[]): Loaded<T> {
  const keyText = JSON.stringify(key);
  const [state, setState] = useState<{ key: string; data?: T; error?: ApiError; loading: boolean }>({
    key: keyText,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    // Marking the load as under way is the point of this effect.
    // oxlint-disable-next-line react/set-state-in-effect
    setState((s) => ({ key: keyText, data: s.key === keyText ? s.data : undefined, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ key: keyText, data, loading: false }),
      (error) =>
        mine === generation.current &&
        setState({ key: keyText, error: asApiError(error), loading: false }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [keyText, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  if (state.key !== keyText) return { data: undefined, error: undefined, loading: true, reload };
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** Any thrown value as an ApiError (so that nothing is swallowed or shown as `[object]`). */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, "client_error", error instanceof Error ? error.message : String(error));
}

/** An action that can fail: `run(fn)` keeps the API's error and a busy flag. */
export function useAction() {
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await action();
    } catch (err) {
      setError(asApiError(err));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { error, busy, run, clear: () => setError(undefined) };
}
