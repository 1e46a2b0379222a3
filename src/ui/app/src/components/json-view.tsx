import { useState } from 'react';

/** Pretty JSON in a scrollable block, with a copy button; large values start folded. */
export function JsonView({ value, maxHeight = 320, label }: { value: unknown; maxHeight?: number; label?: string }) {
  const text = value === undefined ? 'undefined' : JSON.stringify(value, null, 2) ?? String(value);
  const big = text.length > 4000;
  const [open, setOpen] = useState(!big);
  const [copied, setCopied] = useState(false);
  const copy = () => {
    void navigator.clipboard?.writeText(text).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1200);
    });
  };
  return (
    <div className="json-view">
      <div className="json-tools">
        {label ? <span className="muted">{label}</span> : null}
        {big ? <button type="button" className="link" onClick={() => setOpen(!open)}>{open ? 'fold' : `show ${Math.round(text.length / 1024)} KB`}</button> : null}
        <button type="button" className="link" onClick={copy} title="Copy JSON">{copied ? 'copied' : 'copy'}</button>
      </div>
      {open ? <pre style={{ maxHeight }}>{text}</pre> : null}
    </div>
  );
}
