export function ApplyView() {
  return <p class="muted">Apply: coming soon.</p>;
}
