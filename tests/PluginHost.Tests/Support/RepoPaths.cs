namespace PluginHost.Tests.Support;

/// <summary>Locates the repository root (the folder holding PluginHost.sln) and the shared fixtures beside it.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PluginHost.sln"))) return dir.FullName;
        throw new InvalidOperationException($"PluginHost.sln not found above {AppContext.BaseDirectory}");
    });

    /// <summary>The repository root.</summary>
    public static string RepoRoot => Root.Value;

    /// <summary><c>../shared/fixtures/mysql-binlogs</c> relative to the repository root; fails loudly when missing.</summary>
    public static string MySqlBinlogFixtures
    {
        get
        {
            var dir = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures", "mysql-binlogs"));
            if (!Directory.Exists(dir))
                throw new InvalidOperationException($"the MySQL binlog fixtures folder {dir} is missing (it sits beside the repository as shared/fixtures/mysql-binlogs)");
            return dir;
        }
    }

    /// <summary>A fixture file by name (e.g. <c>mysql-bin.checksum-crc32</c>); fails loudly when missing.</summary>
    public static string Fixture(string name)
    {
        var path = Path.Combine(MySqlBinlogFixtures, name);
        if (!File.Exists(path)) throw new InvalidOperationException($"fixture {path} is missing");
        return path;
    }
}
