export function EventsView() {
  return <p class="muted">Events: coming soon.</p>;
}
