export function ServicesView() {
  return <p class="muted">Services: coming soon.</p>;
}
