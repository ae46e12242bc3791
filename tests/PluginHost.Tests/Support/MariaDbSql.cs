using System.Globalization;
using System.Text;
using MySqlConnector;

namespace PluginHost.Tests.Support;

/// <summary>
/// Runs SQL for the tests through MySqlConnector, on a pooled connection per server and database (a statement costs
/// tens of µs instead of a <c>mariadb</c> client process, about 13 ms). Returns what <c>mariadb --batch
/// --skip-column-names</c> would print: each row's fields joined by tabs, <c>NULL</c> for nulls, tab, newline,
/// backslash and NUL escaped. The pool resets each connection's session before reuse, as a new client would start.
/// </summary>
public static class MariaDbSql
{
    /// <summary>Runs <paramref name="sql"/> (one or more statements) as root over the server's socket.</summary>
    /// <exception cref="InvalidOperationException">The server refused a statement (its message, and the SQL).</exception>
    public static string Run(string socketPath, string sql, string? database)
    {
        var builder = new MySqlConnectionStringBuilder
        {
            Server = socketPath,
            ConnectionProtocol = MySqlConnectionProtocol.UnixSocket,
            UserID = "root",
            Database = database ?? "",
            AllowUserVariables = true,
            AllowZeroDateTime = true,
            TreatTinyAsBoolean = false,
            GuidFormat = MySqlGuidFormat.None,
            CharacterSet = "utf8mb4",
            DefaultCommandTimeout = 600,
        };
        try
        {
            using var connection = new MySqlConnection(builder.ConnectionString);
            Open(connection);
            using var command = new MySqlCommand(sql, connection);
            using var reader = command.ExecuteReader();
            var text = new StringBuilder();
            do
            {
                if (reader.FieldCount == 0) continue;
                var scales = reader.GetColumnSchema().Select(c => c.NumericScale ?? 0).ToArray();
                while (reader.Read())
                {
                    for (var i = 0; i < reader.FieldCount; i++)
                    {
                        if (i > 0) text.Append('\t');
                        Escape(text, Format(reader, i, scales[i]));
                    }
                    text.Append('\n');
                }
            } while (reader.NextResult());
            return text.ToString();
        }
        catch (MySqlException e)
        {
            throw new InvalidOperationException($"SQL failed ({e.ErrorCode}, {e.Number}): {e.Message}\nSQL: {(sql.Length > 500 ? sql[..500] + "…" : sql)}", e);
        }
    }

    /// <summary>
    /// Opens, retrying for a few seconds while the server cannot be reached: a server just started (the fixture waits
    /// for its port and socket file) was seen refusing its first socket connection once, with two servers starting at once.
    /// </summary>
    private static void Open(MySqlConnection connection)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                connection.Open();
                return;
            }
            catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.UnableToConnectToHost && clock.Elapsed < TimeSpan.FromSeconds(15))
            {
                Thread.Sleep(100);
            }
        }
    }

    private static string Format(MySqlDataReader reader, int i, int scale)
    {
        if (reader.IsDBNull(i)) return "NULL";
        if (reader.GetDataTypeName(i) is "DECIMAL" or "NEWDECIMAL") return reader.GetMySqlDecimal(i).ToString();
        return reader.GetValue(i) switch
        {
            string s => s,
            byte[] b => Encoding.UTF8.GetString(b),
            MySqlDateTime d => DateTimeText(d, reader.GetDataTypeName(i) == "DATE", scale),
            DateTime d => DateTimeText(new MySqlDateTime(d), reader.GetDataTypeName(i) == "DATE", scale),
            TimeSpan t => TimeText(t, scale),
            double d => RealText(d.ToString("R", CultureInfo.InvariantCulture)),
            float f => RealText(f.ToString("R", CultureInfo.InvariantCulture)),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            var v => v.ToString() ?? "",
        };
    }

    private static string DateTimeText(MySqlDateTime d, bool dateOnly, int scale)
    {
        var text = $"{d.Year:D4}-{d.Month:D2}-{d.Day:D2}";
        if (dateOnly) return text;
        text += $" {d.Hour:D2}:{d.Minute:D2}:{d.Second:D2}";
        return scale > 0 ? text + "." + d.Microsecond.ToString("D6", CultureInfo.InvariantCulture)[..Math.Min(scale, 6)] : text;
    }

    private static string TimeText(TimeSpan t, int scale)
    {
        var sign = t < TimeSpan.Zero ? "-" : "";
        var a = t.Duration();
        var text = $"{sign}{(long)a.TotalHours:D2}:{a.Minutes:D2}:{a.Seconds:D2}";
        var micros = a.Ticks % TimeSpan.TicksPerSecond / 10;
        return scale > 0 ? text + "." + micros.ToString("D6", CultureInfo.InvariantCulture)[..Math.Min(scale, 6)] : text;
    }

    /// <summary>The server's spelling of a real: <c>1e300</c>, <c>1e-5</c>, not .NET's <c>1E+300</c>, <c>1E-05</c>.</summary>
    private static string RealText(string r)
    {
        var e = r.IndexOf('E');
        if (e < 0) return r;
        var exponent = int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture);
        return r[..e] + "e" + exponent.ToString(CultureInfo.InvariantCulture);
    }

    private static void Escape(StringBuilder into, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': into.Append(@"\\"); break;
                case '\t': into.Append(@"\t"); break;
                case '\n': into.Append(@"\n"); break;
                case '\0': into.Append(@"\0"); break;
                default: into.Append(c); break;
            }
        }
    }
}
