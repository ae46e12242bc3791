using System.Globalization;
using System.Text;

namespace PluginHost.Tests.Binlog.Replication;

/// <summary>
/// A seeded mix of inserts, updates and deletes on a few tables of many column types, as SQL batches of one transaction
/// each (so they can be run through the CLI one by one, with DDL or FLUSH BINARY LOGS in between).
/// </summary>
internal sealed class Workload(string database, int seed)
{
    private readonly Random _random = new(seed);
    private readonly Dictionary<string, List<int>> _ids = new() { ["t_num"] = new(), ["t_text"] = new(), ["t_time"] = new() };
    private int _nextId = 1;
    private bool _numHasExtra;

    public int Statements { get; private set; }

    public string CreateTables() => $"""
        USE {database};
        CREATE TABLE t_num (id INT PRIMARY KEY, i INT, u BIGINT UNSIGNED, s SMALLINT, d DECIMAL(20,6), f DOUBLE, b BIT(10), y YEAR) ENGINE=InnoDB;
        CREATE TABLE t_text (id INT PRIMARY KEY, s VARCHAR(100) CHARACTER SET utf8mb4, l VARCHAR(50) CHARACTER SET latin1,
            e ENUM('a','b','c'), st SET('x','y','z'), tx TEXT CHARACTER SET utf8mb4, bl BLOB, j JSON) ENGINE=InnoDB;
        CREATE TABLE t_time (id INT PRIMARY KEY, dt DATETIME(6), ts TIMESTAMP(3) NULL, d DATE, t TIME(2)) ENGINE=InnoDB;
        CREATE TABLE marker (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB;
        """;

    /// <summary>ALTER that adds a column: rows after it have one more value.</summary>
    public string AddColumn()
    {
        _numHasExtra = true;
        return $"USE {database}; ALTER TABLE t_num ADD COLUMN extra VARCHAR(20) DEFAULT 'dflt';";
    }

    /// <summary>One transaction of <paramref name="statements"/> random statements.</summary>
    public string Transaction(int statements)
    {
        var sb = new StringBuilder($"USE {database};\nBEGIN;\n");
        for (var i = 0; i < statements; i++) sb.Append(Statement()).Append('\n');
        return sb.Append("COMMIT;\n").ToString();
    }

    public static string Marker(string database, string value) => $"INSERT INTO {database}.marker (v) VALUES ('{value}');";

    private string Statement()
    {
        Statements++;
        var table = new[] { "t_num", "t_text", "t_time" }[_random.Next(3)];
        var ids = _ids[table];
        var op = ids.Count < 5 ? 0 : _random.Next(10);
        if (op < 5)
        {
            // Insert one to three rows.
            var rows = new List<string>();
            for (var n = 1 + _random.Next(3); n > 0; n--)
            {
                var id = _nextId++;
                ids.Add(id);
                rows.Add($"({id}, {Values(table)})");
            }
            return $"INSERT INTO {table} VALUES {string.Join(", ", rows)};";
        }
        var victim = ids[_random.Next(ids.Count)];
        if (op < 8) return $"UPDATE {table} SET {Assignments(table)} WHERE id = {victim};";
        ids.Remove(victim);
        return $"DELETE FROM {table} WHERE id = {victim};";
    }

    private string Values(string table) => table switch
    {
        "t_num" => $"{Int()}, {UInt()}, {_random.Next(-32768, 32768)}, {Dec()}, {Dbl()}, b'{Convert.ToString(_random.Next(1024), 2)}', {1901 + _random.Next(254)}"
                   + (_numHasExtra ? $", {Maybe(Str("e", 20, latin: true))}" : ""),
        "t_text" => $"{Maybe(Str("s", 100, latin: false))}, {Maybe(Str("l", 50, latin: true))}, {Maybe($"'{"abc"[_random.Next(3)]}'")}, " +
                    $"'{string.Join(',', new[] { "x", "y", "z" }.Where(_ => _random.Next(2) == 0))}', {Maybe(Str("t", 300, latin: false))}, " +
                    $"{Maybe($"0x{Convert.ToHexString(Bytes())}")}, {Maybe($"'{{\"k\": {_random.Next(1000)}, \"a\": [1, \"ü\", null]}}'")}",
        _ => $"{Maybe(DateTimeLiteral(6))}, {Maybe($"'20{_random.Next(10, 37)}-0{1 + _random.Next(9)}-1{_random.Next(10)} 0{_random.Next(10)}:1{_random.Next(10)}:2{_random.Next(10)}.{_random.Next(1000):D3}'")}, " +
             $"{Maybe($"'{1000 + _random.Next(9000)}-1{_random.Next(3)}-2{_random.Next(9)}'")}, {Maybe($"'{(_random.Next(2) == 0 ? "-" : "")}{_random.Next(839)}:{_random.Next(60):D2}:{_random.Next(60):D2}.{_random.Next(100):D2}'")}",
    };

    private string Assignments(string table) => table switch
    {
        "t_num" => $"i = {Int()}, u = {UInt()}, d = {Dec()}" + (_numHasExtra && _random.Next(2) == 0 ? $", extra = {Maybe(Str("x", 20, latin: true))}" : ""),
        "t_text" => $"s = {Maybe(Str("s", 100, latin: false))}, e = {Maybe("'c'")}, st = 'x,z'",
        _ => $"dt = {Maybe(DateTimeLiteral(6))}, ts = NULL",
    };

    private string Int() => _random.Next(4) switch { 0 => int.MinValue.ToString(CultureInfo.InvariantCulture), 1 => int.MaxValue.ToString(CultureInfo.InvariantCulture), _ => _random.Next(-100000, 100000).ToString(CultureInfo.InvariantCulture) };

    private string UInt() => _random.Next(3) switch { 0 => ulong.MaxValue.ToString(CultureInfo.InvariantCulture), 1 => "0", _ => ((ulong)_random.NextInt64() * 3).ToString(CultureInfo.InvariantCulture) };

    private string Dec() => $"{(_random.Next(2) == 0 ? "-" : "")}{_random.NextInt64(100000000000000)}.{_random.Next(1000000):D6}";

    private string Dbl() => (_random.NextDouble() * Math.Pow(10, _random.Next(-5, 20)) * (_random.Next(2) == 0 ? -1 : 1)).ToString("R", CultureInfo.InvariantCulture);

    private string DateTimeLiteral(int fsp) =>
        $"'{1000 + _random.Next(9000)}-{1 + _random.Next(12):D2}-{1 + _random.Next(28):D2} {_random.Next(24):D2}:{_random.Next(60):D2}:{_random.Next(60):D2}.{_random.Next(1000000).ToString(CultureInfo.InvariantCulture).PadLeft(fsp, '0')[..fsp]}'";

    private byte[] Bytes()
    {
        var b = new byte[_random.Next(1, 40)];
        _random.NextBytes(b);
        return b;
    }

    private string Str(string prefix, int max, bool latin)
    {
        var alphabet = latin ? "abcxyzéüñ '\\ß" : "abcxyz éü€😀ß'\\漢";
        var sb = new StringBuilder(prefix);
        var elements = System.Globalization.StringInfo.GetTextElementEnumerator(alphabet);
        var chars = new List<string>();
        while (elements.MoveNext()) chars.Add((string)elements.Current);
        for (var n = _random.Next(max - prefix.Length); n > 0; n--) sb.Append(chars[_random.Next(chars.Count)]);
        return "'" + sb.ToString().Replace("\\", "\\\\").Replace("'", "''") + "'";
    }

    private string Maybe(string literal) => _random.Next(8) == 0 ? "NULL" : literal;
}
