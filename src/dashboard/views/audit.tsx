export function AuditView() {
  return <p class="muted">Audit: coming soon.</p>;
}
