using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PluginHost.Demo;

/// <summary>
/// A throwaway MariaDB server in a temp directory on a free loopback port (row-based binlog with FULL image,
/// FULL metadata and CRC32 checksums), stopped and deleted on Dispose. Used by the demo, the tests and the benchmarks.
/// </summary>
public class ThrowawayMariaDb : IDisposable
{
    private readonly Process? _process;
    private readonly string _root;

    public string Host => "127.0.0.1";
    public int Port { get; }
    public string User => "root";
    public string Password => "";
    public string DataDir { get; }
    public string SocketPath { get; }
    public string BinlogBaseName => Path.Combine(DataDir, "mysql-bin");

    public ThrowawayMariaDb() : this(extraArgs: null) { }

    /// <summary>A server with extra mariadbd arguments (e.g. <c>--binlog-format=STATEMENT</c>).</summary>

    public ThrowawayMariaDb(string? extraArgs)
    {
        _root = Path.Combine(Path.GetTempPath(), "pluginhost-mariadb-" + Guid.NewGuid().ToString("N")[..8]);
        DataDir = Path.Combine(_root, "data");
        SocketPath = Path.Combine(_root, "mysqld.sock");
        Directory.CreateDirectory(_root);
        var install = FindTool("mariadb-install-db");
        var daemon = FindTool("mariadbd");
        var tmp = Path.Combine(_root, "tmp");
        Directory.CreateDirectory(tmp); // each instance its own tmpdir: parallel installs collide otherwise
        Run(install, $"--no-defaults --datadir={DataDir} --tmpdir={tmp} --user=root --auth-root-authentication-method=normal --skip-test-db", TimeSpan.FromMinutes(2));
        Port = FreePort();
        var args = $"--no-defaults --datadir={DataDir} --port={Port} --socket={SocketPath} --bind-address=127.0.0.1 " +
                   $"--log-bin={BinlogBaseName} --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL " +
                   $"--binlog-checksum=CRC32 --server-id=1 --user=root --tmpdir={tmp} --pid-file={Path.Combine(_root, "mysqld.pid")} " +
                   $"--log-error={Path.Combine(_root, "error.log")} --skip-name-resolve --innodb-buffer-pool-size=128M " +
                   $"--innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --max-allowed-packet=64M {extraArgs}";
        var psi = new ProcessStartInfo(daemon, args) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start mariadbd");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"mariadbd exited with code {_process.ExitCode} while starting. Log:\n{ReadLog()}");
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, Port);
                if (File.Exists(SocketPath)) break;
            }
            catch (SocketException) { }
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"mariadbd did not accept connections on port {Port} within 60 s. Log:\n{ReadLog()}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Runs SQL through the mariadb command-line client (an independent client, not ours); returns its batch output.
    /// The tests override it with a pooled MySqlConnector connection (a process per statement costs about 13 ms).</summary>
    public virtual string Sql(string sql, string? database = null)
    {
        var client = FindTool("mariadb");
        var psi = new ProcessStartInfo(client)
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var a in new[] { "--no-defaults", "-uroot", $"--socket={SocketPath}", "--batch", "--skip-column-names", "--default-character-set=utf8mb4" })
            psi.ArgumentList.Add(a);
        if (database != null) psi.ArgumentList.Add(database);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            p.StandardInput.Write(sql);
            p.StandardInput.Close();
        }
        catch (IOException)
        {
            // The client stopped reading (it failed on an earlier statement): its stderr below says why.
        }
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"mariadb client failed ({p.ExitCode}): {stderr.Result}\nSQL: {Truncate(sql)}");
        return stdout.Result;
    }

    /// <summary>The binlog files currently listed in the index, full paths, oldest first.</summary>
    public IReadOnlyList<string> BinlogFiles()
    {
        var index = BinlogBaseName + ".index";
        return File.ReadAllLines(index).Where(l => l.Length > 0)
            .Select(l => Path.IsPathRooted(l) ? l : Path.Combine(DataDir, l)).ToList();
    }

    /// <summary>Closes the current binlog file and starts a new one; returns the name of the new file.</summary>
    public string FlushLogs()
    {
        Sql("FLUSH BINARY LOGS;");
        return Path.GetFileName(BinlogFiles()[^1]);
    }

    public string ReadLog()
    {
        var f = Path.Combine(_root, "error.log");
        try { return File.Exists(f) ? File.ReadAllText(f) : "(no error log)"; } catch (IOException e) { return e.Message; }
    }

    public virtual void Dispose()
    {
        try
        {
            if (_process is { HasExited: false })
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException) { }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static string FindTool(string name)
    {
        foreach (var dir in new[] { "/usr/bin", "/usr/sbin", "/usr/local/bin" })
        {
            var p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        throw new InvalidOperationException(
            $"'{name}' was not found. Integration tests need MariaDB 10.11: run the README's test command, " +
            "which installs mariadb-server and mariadb-client (apt-get install -y mariadb-server mariadb-client).");
    }

    private static void Run(string file, string args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout)) { p.Kill(true); throw new InvalidOperationException($"{file} timed out"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {args} failed ({p.ExitCode}):\n{o.Result}\n{e.Result}");
    }

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static string Truncate(string s) => s.Length > 500 ? s[..500] + "…" : s;
}
