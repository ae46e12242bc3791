// Removes audit and secret columns before events leave the host, from both row images:
// who/when bookkeeping (created_by, updated_by, created_at, updated_at, deleted_at…) and credentials
// (password_hash, any *_token or *_secret). Updates that changed nothing but those columns are dropped.
// Try it: pluginhost check transforms/drop_audit_columns.csx

var audit = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
{
    "created_by", "updated_by", "deleted_by", "created_at", "updated_at", "deleted_at", "modified_at", "last_login_at",
    "password_hash", "password_salt",
};

bool IsAudit(string column) =>
    audit.Contains(column) || column.EndsWith("_token", StringComparison.OrdinalIgnoreCase) || column.EndsWith("_secret", StringComparison.OrdinalIgnoreCase);

void Strip(Row? row)
{
    if (row is null) return;
    foreach (var column in row.Keys.Where(IsAudit).ToList()) row.Remove(column);
}

ChangeEvent? Transform(ChangeEvent e)
{
    Strip(e.Before);
    Strip(e.After);
    // An update that only touched audit columns is noise once they are gone.
    if (e.Op == ChangeOperation.Update && e.Before is { } before && e.After is { } after &&
        before.Count == after.Count && before.All(kv => after.TryGetValue(kv.Key, out var v) && object.Equals(kv.Value, v)))
        return null;
    return e;
}
