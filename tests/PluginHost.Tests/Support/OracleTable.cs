namespace PluginHost.Tests.Support;

public sealed record OracleTable(string Name, IReadOnlyList<OracleColumn> Columns, string TableOptions = "")
{
    public string CreateSql => $"CREATE TABLE `{Name}` (`id` INT NOT NULL PRIMARY KEY, " +
                               string.Join(", ", Columns.Select(c => $"`{c.Name}` {c.Ddl}")) + $") {TableOptions};";
}
