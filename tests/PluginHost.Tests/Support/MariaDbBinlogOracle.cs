using System.Diagnostics;
using System.Text;

namespace PluginHost.Tests.Support;

/// <summary>
/// Runs MariaDB's own <c>mariadb-binlog -v --base64-output=decode-rows</c> on a binlog file and parses its
/// <c>### INSERT/UPDATE/DELETE</c> pseudo-SQL into rows. The output is read as bytes: string values come out raw
/// in their column charset, only bytes below 0x20 are escaped (<c>\xHH</c>), so a value never spans lines.
/// </summary>
public static class MariaDbBinlogOracle
{
    /// <summary>Runs the tool; fails (never skips) when it is missing or exits non-zero.</summary>
    public static byte[] Run(string file, params string[] extraArgs)
    {
        var tool = MariaDbServer.FindTool("mariadb-binlog");
        var psi = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--no-defaults", "-v", "--base64-output=decode-rows" }.Concat(extraArgs)) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(file);
        using var p = Process.Start(psi)!;
        using var ms = new MemoryStream();
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.BaseStream.CopyTo(ms);
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"mariadb-binlog {file} exited {p.ExitCode}: {err.Result}");
        return ms.ToArray();
    }

    /// <summary>Runs the tool and parses the rows.</summary>
    public static List<OracleRow> Rows(string file) => Parse(Run(file));

    /// <summary>Parses <c>###</c> lines of mariadb-binlog -v output.</summary>
    public static List<OracleRow> Parse(byte[] output)
    {
        var rows = new List<OracleRow>();
        OracleRow? row = null;
        List<(int, byte[])>? image = null;
        var start = 0;
        while (start < output.Length)
        {
            var nl = Array.IndexOf(output, (byte)'\n', start);
            if (nl < 0) nl = output.Length;
            var line = output.AsSpan(start, nl - start);
            start = nl + 1;
            if (!line.StartsWith("### "u8)) continue;
            var rest = line[4..];
            if (rest.StartsWith("INSERT INTO "u8)) { row = New("INSERT", rest["INSERT INTO "u8.Length..]); image = null; }
            else if (rest.StartsWith("UPDATE "u8)) { row = New("UPDATE", rest["UPDATE "u8.Length..]); image = null; }
            else if (rest.StartsWith("DELETE FROM "u8)) { row = New("DELETE", rest["DELETE FROM "u8.Length..]); image = null; }
            else if (rest.SequenceEqual("SET"u8)) image = row!.After;
            else if (rest.SequenceEqual("WHERE"u8)) image = row!.Before;
            else if (rest.StartsWith("  @"u8))
            {
                var eq = rest.IndexOf((byte)'=');
                var col = int.Parse(Encoding.ASCII.GetString(rest[3..eq]));
                (image ?? throw new InvalidDataException("value outside SET/WHERE: " + Encoding.Latin1.GetString(line)))
                    .Add((col, rest[(eq + 1)..].ToArray()));
            }
            else throw new InvalidDataException("unexpected mariadb-binlog line: " + Encoding.Latin1.GetString(line));
        }
        return rows;

        OracleRow New(string op, ReadOnlySpan<byte> table)
        {
            var r = new OracleRow { Op = op, Table = Encoding.UTF8.GetString(table) };
            rows.Add(r);
            return r;
        }
    }
}
