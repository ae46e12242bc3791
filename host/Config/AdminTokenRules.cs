namespace PluginHost.Config;

/// <summary>The rules of <c>server.admin_token</c> and <c>server.allow_unauthenticated_admin</c> (the token itself: Api's <c>AdminToken</c>).</summary>
internal static class AdminTokenRules
{
    /// <summary>The configuration errors of <c>server.admin_token</c> / <c>server.allow_unauthenticated_admin</c>.</summary>
    public static void Validate(ServerOptions server, string file, List<ConfigError> errors)
    {
        if (!server.Enabled) return;
        if (server.AdminToken is "" && !server.AllowUnauthenticatedAdmin)
            errors.Add(new ConfigError(file, null, "server.admin_token",
                "is empty: set a token, leave the key out (a token is then generated into state_dir/admin-token), or run without one " +
                "by also setting server.allow_unauthenticated_admin: true (any local user may then change pipelines)"));
        else if (server.AllowUnauthenticatedAdmin && server.AdminToken is not "")
            errors.Add(new ConfigError(file, null, "server.allow_unauthenticated_admin",
                "takes effect only together with server.admin_token: \"\" (say both to run the API without a token)"));
    }
}
