// The console's only way to the server: POST /graphql with the signed-in
// token, exactly as a partner's own code would. Every operation a view
// runs is recorded for its "Show GraphQL" panel.

const TOKEN_KEY = "brand-gateway.token";
const GRAPHIQL_KEY = "brand-gateway.graphiql";

/** The signed-in token, kept in this tab's session storage only. */
export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** A GraphQL or HTTP error, with the contract's `extensions.code`. */
export class ApiError extends Error {
  constructor(message, code, field) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

/** The input field a userError names: the last segment of its path. */
export const fieldOf = (error) => error.field[error.field.length - 1];

/** The userErrors that name the input field `name`. */
export const errorsOn = (errors, name) => errors.filter((e) => fieldOf(e) === name);

let recorded = [];
const listeners = new Set();

/** The operations run since the view was opened, newest last. */
export function operations() {
  return recorded;
}

/** Calls `listener` whenever an operation is recorded or the log is cleared. */
export function onOperations(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Forgets the recorded operations (a new view starts). */
export function clearOperations() {
  recorded = [];
  listeners.forEach((l) => l(recorded));
}

/**
 * Hands an operation to GraphiQL and opens it in a new tab, which starts
 * with a copy of this tab's session storage (the token and the operation).
 */
export function openInGraphiql(operation) {
  sessionStorage.setItem(GRAPHIQL_KEY, JSON.stringify(operation));
  window.open("/graphiql", "_blank");
  sessionStorage.removeItem(GRAPHIQL_KEY);
}

/**
 * Runs `query` with `variables`; resolves to its `data`, or rejects with an
 * ApiError carrying the first error's code. A 401 signs the tab out.
 */
export async function gql(query, variables = {}) {
  const name = (query.match(/^\s*(?:query|mutation)\s+(\w+)/) || [])[1] || "anonymous";
  recorded = [...recorded.filter((o) => o.name !== name), { name, query: query.trim(), variables }];
  listeners.forEach((l) => l(recorded));
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json, application/json",
        Authorization: "Bearer " + (session.token() || ""),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new ApiError(String(e.message || e), "NETWORK");
  }
  const body = await response.json().catch(() => ({}));
  const error = (body.errors || [])[0];
  if (response.status === 401) {
    session.signOut();
    window.dispatchEvent(new Event("brand-gateway:signed-out"));
  }
  if (error) {
    const ext = error.extensions || {};
    throw new ApiError(error.message, ext.code || "HTTP_" + response.status, ext.field);
  }
  if (!response.ok) throw new ApiError(response.statusText, "HTTP_" + response.status);
  return body.data;
}

/**
 * Runs an operation (a mutation, or a preview query) whose payload
 * (`data[field]`) carries `userErrors`:
 * shows them with `setErrors`, calls `onDone(payload)` when there are
 * none, and hands a failed request to `onError`. Resolves to the
 * userErrors (none after a failed request).
 */
export async function mutate(query, variables, field, { setErrors, onDone, onError }) {
  try {
    const payload = (await gql(query, variables))[field];
    setErrors(payload.userErrors);
    if (payload.userErrors.length === 0) onDone?.(payload);
    return payload.userErrors;
  } catch (e) {
    onError(e);
    return [];
  }
}

/**
 * Marks the moment the page's first view shows its data (a
 * `console:ready` performance mark, once per page load): how fast the
 * console is usable, for the bench and for anyone's browser tools.
 */
export function markReady() {
  // After the next frame, so the data is on screen, not just in state.
  requestAnimationFrame(() => {
    if (performance.getEntriesByName("console:ready").length === 0) performance.mark("console:ready");
  });
}
