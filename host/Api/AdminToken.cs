using System.Security.Cryptography;
using PluginHost.Config;

namespace PluginHost.Api;

/// <summary>
/// The admin token the API asks for. <c>server.admin_token</c> when set; otherwise one generated at first start into
/// <c>state_dir/admin-token</c> (mode 0600, 32 random bytes) and read from there at every later start. Running without
/// one takes <c>server.admin_token: ""</c> together with <c>server.allow_unauthenticated_admin: true</c>.
/// </summary>
internal sealed record AdminToken(string? Value, string? FilePath, bool Generated)
{
    public const string FileName = "admin-token";

    /// <summary>The token for <paramref name="config"/>: configured, read from <c>state_dir/admin-token</c>, or generated there now.</summary>
    public static AdminToken For(HostConfig config)
    {
        var server = config.Options.Server;
        if (server.AdminToken is "" && server.AllowUnauthenticatedAdmin) return new AdminToken(null, null, false);
        if (!string.IsNullOrEmpty(server.AdminToken)) return new AdminToken(server.AdminToken, null, false);
        var path = Path.Combine(config.StateDirectory, FileName);
        try
        {
            if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: >= 16 } existing)
            {
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                return new AdminToken(existing, path, false);
            }
            Directory.CreateDirectory(config.StateDirectory);
            var token = "ph_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var temp = path + ".tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var stream = new FileStream(temp, options))
            using (var writer = new StreamWriter(stream))
                writer.Write(token + "\n");
            File.Move(temp, path, overwrite: true);
            return new AdminToken(token, path, true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException([new ConfigError(config.FilePath, null, "state_dir",
                $"cannot read or create the admin token {path}: {e.Message} (or set server.admin_token)")]);
        }
    }
}
