using System.Globalization;

namespace PluginHost.Binlog.Ddl;

/// <summary>
/// Reads one column definition (<c>name type[(args)] [UNSIGNED] [CHARACTER SET x] [COLLATE y] [PRIMARY KEY] …</c>) up to
/// the <c>,</c> or <c>)</c> that ends it. Attributes that do not matter to decoding (defaults, comments, references,
/// generation expressions) are skipped.
/// </summary>
internal static class ColumnDefinitionParser
{
    public static ColumnDefinition Parse(DdlCursor c)
    {
        var name = c.Identifier();
        var (dataType, charset, binaryType) = DataType(c);
        string[]? labels = null;
        var fsp = 0;
        if (c.Peek().IsSymbol('('))
        {
            var args = c.Group();
            if (dataType is "enum" or "set")
                labels = args.Where(t => t.Kind == DdlTokenKind.String).Select(t => t.Text).ToArray();
            else if (dataType is "time" or "datetime" or "timestamp" && args.Count == 1 && int.TryParse(args[0].Text, CultureInfo.InvariantCulture, out var p))
                fsp = p;
            else if (dataType == "float" && args.Count == 1 && int.TryParse(args[0].Text, CultureInfo.InvariantCulture, out var precision) && precision > 24)
                dataType = "double";
        }
        else if (dataType is "enum" or "set") throw new DdlSyntaxException($"{dataType} without labels");

        bool unsigned = false, primary = false, json = false, binaryCollation = false;
        string? collation = null;
        while (!c.AtEnd && !c.Peek().IsSymbol(',') && !c.Peek().IsSymbol(')'))
        {
            var t = c.Peek();
            if (t.IsSymbol('(')) { c.SkipGroup(); continue; }
            if (t.Kind != DdlTokenKind.Word) { c.Next(); continue; }
            if (t.Is("FIRST") || t.Is("AFTER")) break; // ALTER's position of the column
            if (c.Accept("UNSIGNED") || c.Accept("ZEROFILL")) unsigned = true;
            else if (c.AcceptAll("CHARACTER", "SET") || c.Accept("CHARSET")) charset = Name(c);
            else if (c.Accept("COLLATE")) collation = Name(c);
            else if (c.Accept("BINARY")) binaryCollation = true;
            else if (c.Accept("ASCII")) charset = "latin1";
            else if (c.Accept("UNICODE")) charset = "ucs2";
            else if (c.Accept("BYTE")) binaryType = true;
            else if (c.AcceptAll("PRIMARY", "KEY") || c.Accept("KEY")) primary = true;
            else if (c.Accept("UNIQUE")) c.Accept("KEY");
            else if (c.Accept("CHECK"))
            {
                if (c.Peek().IsSymbol('(') && JsonValidColumn(c.Group()) is { } checkedColumn && checkedColumn.Equals(name, StringComparison.OrdinalIgnoreCase))
                    json = true;
            }
            else if (c.Peek().Is("VERSIONING")) throw new DdlSyntaxException("system versioning");
            else if (c.Accept("DEFAULT") || c.Accept("COMMENT"))
            {
                // A literal (possibly signed or introduced by _charset), a word, or an expression in parentheses.
                if (c.Peek().IsSymbol('-') || c.Peek().IsSymbol('+')) c.Next();
                if (c.Peek().IsSymbol('(')) c.SkipGroup();
                else if (!c.AtEnd && !c.Peek().IsSymbol(',') && !c.Peek().IsSymbol(')')) c.Next();
                if (c.Peek().Kind == DdlTokenKind.String) c.Next();
            }
            else c.Next();
        }
        if (dataType == "json") json = true;
        if (binaryType && dataType is "char" or "varchar") dataType = dataType == "char" ? "binary" : "varbinary";
        return new ColumnDefinition(name, dataType, unsigned, charset, collation, binaryCollation, labels, fsp, primary, json);
    }

    /// <summary>A character set or collation name: a word, a backquoted name or a string.</summary>
    public static string Name(DdlCursor c)
    {
        c.AcceptSymbol('=');
        var t = c.Next();
        if (t.Kind == DdlTokenKind.Symbol) throw new DdlSyntaxException($"expected a character set or collation name, found '{t}'");
        return t.Text.ToLowerInvariant();
    }

    /// <summary>The column of a check that is exactly <c>json_valid(col)</c>, else null.</summary>
    public static string? JsonValidColumn(List<DdlToken> check) =>
        check.Count == 4 && check[0].Is("json_valid") && check[1].IsSymbol('(') && check[2].IsIdentifier && check[3].IsSymbol(')') ? check[2].Text : null;

    /// <summary>The type's information_schema DATA_TYPE, a character set the type implies, and whether it is binary.</summary>
    private static (string DataType, string? Charset, bool Binary) DataType(DdlCursor c)
    {
        var word = c.Peek().Kind == DdlTokenKind.Word ? c.Next().Text.ToLowerInvariant() : throw new DdlSyntaxException($"expected a data type, found '{c.Peek()}'");
        switch (word)
        {
            case "int" or "integer" or "int4": return ("int", null, false);
            case "tinyint" or "int1" or "bool" or "boolean": return ("tinyint", null, false);
            case "smallint" or "int2": return ("smallint", null, false);
            case "mediumint" or "int3" or "middleint": return ("mediumint", null, false);
            case "bigint" or "int8": return ("bigint", null, false);
            case "serial": return ("bigint", null, false);
            case "decimal" or "dec" or "numeric" or "fixed": return ("decimal", null, false);
            case "float" or "float4": return ("float", null, false);
            case "double":
                c.Accept("PRECISION");
                return ("double", null, false);
            case "float8" or "real": return ("double", null, false);
            case "bit" or "date" or "time" or "datetime" or "timestamp" or "year": return (word, null, false);
            case "char" or "character":
                return c.Accept("VARYING") ? ("varchar", null, false) : ("char", null, false);
            case "varchar" or "varcharacter": return ("varchar", null, false);
            case "nchar":
                return c.Accept("VARCHAR") || c.Accept("VARYING") ? ("varchar", "utf8mb3", false) : ("char", "utf8mb3", false);
            case "nvarchar": return ("varchar", "utf8mb3", false);
            case "national":
                if (c.Accept("VARCHAR")) return ("varchar", "utf8mb3", false);
                if (c.Accept("CHAR") || c.Accept("CHARACTER")) return c.Accept("VARYING") ? ("varchar", "utf8mb3", false) : ("char", "utf8mb3", false);
                throw new DdlSyntaxException("NATIONAL without CHAR or VARCHAR");
            case "binary" or "varbinary": return (word, "binary", true);
            case "tinytext" or "text" or "mediumtext" or "longtext": return (word, null, false);
            case "tinyblob" or "blob" or "mediumblob" or "longblob": return (word, "binary", true);
            case "long":
                if (c.Accept("VARBINARY")) return ("mediumblob", "binary", true);
                c.Accept("VARCHAR");
                return ("mediumtext", null, false);
            case "enum" or "set": return (word, null, false);
            case "json": return ("json", "utf8mb4", false);
            case "geometry" or "point" or "linestring" or "polygon" or "multipoint" or "multilinestring" or "multipolygon"
                or "geometrycollection" or "geomcollection":
                return (word, "binary", true);
            case "inet4" or "inet6" or "uuid": return (word, "binary", true);
            default: throw new DdlSyntaxException($"unknown data type '{word}'");
        }
    }
}
