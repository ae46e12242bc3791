namespace PluginHost.Tests.Support;

/// <summary>One column of a generated table: DDL, a random SQL literal generator and how to compare it.</summary>
public sealed record OracleColumn(string Name, string Ddl, Func<Random, string> Gen, CheckKind Check, bool IsBlob = false)
{
    /// <summary>The SELECT expression whose text equals our JSON value after <see cref="OracleWorkload.JsonToComparable"/>.</summary>
    public string SelectExpression => Check switch
    {
        CheckKind.BitOrYear => $"`{Name}`+0",
        CheckKind.Float or CheckKind.Double => $"`{Name}`+0e0",
        CheckKind.Text or CheckKind.Enum or CheckKind.Set => $"HEX(CONVERT(`{Name}` USING utf8mb4))",
        CheckKind.Binary => $"HEX(`{Name}`)",
        CheckKind.Timestamp => $"IF(UNIX_TIMESTAMP(`{Name}`)=0, CAST(`{Name}` AS CHAR), CONCAT(REPLACE(CAST(`{Name}` AS CHAR),' ','T'),'Z'))",
        _ => $"`{Name}`",
    };
}
