using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Notifications.LoadTest;

/// <summary>An HTTP client holding a producer token (from the Development token endpoint) and the registered recipients.</summary>
internal sealed class ProducerClient : IDisposable
{
    private const int RegistrationConcurrency = 16;

    private ProducerClient(HttpClient http) => Http = http;

    public HttpClient Http { get; }

    public IReadOnlyList<string> UserIds { get; private set; } = [];

    public static async Task<ProducerClient> CreateAsync(Uri baseUrl, int connections, CancellationToken cancellationToken)
    {
        var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(connections, 1),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        })
        {
            BaseAddress = baseUrl,
            Timeout = TimeSpan.FromSeconds(30),
        };

        using var response = await http.PostAsJsonAsync("/api/dev/tokens",
            new { sub = "load-test", scopes = new[] { "notifications:send" } }, cancellationToken);
        response.EnsureSuccessStatusCode();
        var token = (await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken))?["accessToken"]?.GetValue<string>()
            ?? throw new InvalidOperationException("The token endpoint answered without an accessToken.");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new ProducerClient(http);
    }

    /// <summary>Registers <paramref name="count"/> recipients (<c>load-user-N</c>, with an address so email jobs are made).</summary>
    public async Task RegisterUsersAsync(int count, CancellationToken cancellationToken)
    {
        var userIds = Enumerable.Range(1, count).Select(index => $"load-user-{index}").ToArray();
        await Parallel.ForEachAsync(userIds,
            new ParallelOptions { MaxDegreeOfParallelism = RegistrationConcurrency, CancellationToken = cancellationToken },
            async (userId, token) =>
            {
                using var response = await Http.PutAsJsonAsync($"/api/users/{userId}",
                    new { email = $"{userId}@example.test", displayName = userId }, token);
                if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Created))
                {
                    throw new InvalidOperationException(
                        $"Registering {userId} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(token)}");
                }
            });
        UserIds = userIds;
    }

    public void Dispose() => Http.Dispose();
}
