import { useEffect, useRef, useState } from 'react';

import { ErrorMessage } from './ErrorMessage';

/**
 * A destructive action that asks first: the button opens "Delete X?" with Yes and Cancel, focus on
 * Cancel (Escape cancels too, and focus goes back to the button). The action's error is shown in words; on success the caller moves on.
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
}: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const opener = useRef<HTMLButtonElement>(null);

  const wasAsking = useRef(false);

  // Open: focus Cancel; closed again: back to the button that opened it.
  useEffect(() => {
    if (asking) cancel.current?.focus();
    else if (wasAsking.current) opener.current?.focus();
    wasAsking.current = asking;
  }, [asking]);

  if (!asking) {
    return (
      <span className="confirm">
        <button
          ref={opener}
          type="button"
          className="danger"
          onClick={() => {
            setError(null);
            setAsking(true);
          }}
        >
          {label}
        </button>
        <ErrorMessage error={error} />
      </span>
    );
  }
  return (
    <span
      className="confirm confirm-open"
      role="group"
      aria-label={question}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !busy) setAsking(false);
      }}
    >
      <span className="confirm-question">{question}</span>
      <button
        type="button"
        className="danger"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          setError(null);
          onConfirm().then(
            () => {
              setBusy(false);
              setAsking(false);
            },
            (err: unknown) => {
              setBusy(false);
              setAsking(false);
              setError(err);
            },
          );
        }}
      >
        {confirmLabel}
      </button>
      <button ref={cancel} type="button" className="secondary" disabled={busy} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
