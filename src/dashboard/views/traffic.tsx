export function TrafficView() {
  return <p class="muted">Traffic: coming soon.</p>;
}
