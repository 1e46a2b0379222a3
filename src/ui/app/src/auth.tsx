import { useEffect, useState, type FormEvent } from 'react';
import { tokenStore } from './api.ts';

/**
 * When the server has tokens, the API answers 401 without one: the app then asks for a token,
 * keeps it in this browser (localStorage) and sends it as `Authorization: Bearer` from then on.
 */
export function useNeedsToken(): [boolean, () => void] {
  const [needs, setNeeds] = useState(false);
  useEffect(() => tokenStore.onUnauthorized(() => setNeeds(true)), []);
  return [needs, () => setNeeds(false)];
}

export function TokenDialog({ onDone }: { onDone: () => void }) {
  const [token, setToken] = useState('');
  const hadOne = tokenStore.get() !== null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!token.trim()) return;
    tokenStore.set(token.trim());
    onDone();
  };
  return (
    <div className="modal-backdrop">
      <form className="modal" onSubmit={submit} data-testid="token-dialog">
        <h2>This server needs a token</h2>
        <p>{hadOne ? 'The token this browser had was refused.' : 'The server was started with tokens (--auth-token or a token file).'} Paste a client or admin token; it is kept in this browser only.</p>
        <input type="password" autoFocus placeholder="token" value={token} onChange={(e) => setToken(e.target.value)} data-testid="token-input" aria-label="token" />
        <div className="buttons"><button type="submit" className="primary">Use this token</button></div>
      </form>
    </div>
  );
}
