export function AlertsView() {
  return <p class="muted">Alerts: coming soon.</p>;
}
