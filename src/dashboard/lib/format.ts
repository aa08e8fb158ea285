// Small display formats shared by the events and audit views.

/** HH:MM:SS in the viewer's locale, 24-hour: the one clock format of the lists. */
export function clockTime(t: number | string): string {
  return new Date(t).toLocaleTimeString([], { hour12: false });
}

/** An audit actor: the name once, and the kind only when it says something the name does not ("anonymous anonymous" → "anonymous"). */
export function actorParts(actor: string, kind: string): { name: string; kind: string | null } {
  return { name: actor, kind: kind && kind !== actor ? kind : null };
}
