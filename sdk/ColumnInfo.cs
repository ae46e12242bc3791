namespace PluginHost.Sdk;

/// <summary>A column of the table an event comes from.</summary>
/// <param name="Name">Column name (<c>@N</c> when the source did not say).</param>
/// <param name="Kind">Type family.</param>
/// <param name="IsPrimaryKey">Part of the primary key.</param>
/// <param name="FractionDigits">Fractional-second digits of DATETIME/TIMESTAMP/TIME columns.</param>
public sealed record ColumnInfo(string Name, ColumnKind Kind, bool IsPrimaryKey = false, int FractionDigits = 0);
