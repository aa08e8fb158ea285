export function FailoverView() {
  return <p class="muted">Failover: coming soon.</p>;
}
