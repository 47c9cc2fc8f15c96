using System.Net;
using System.Text.Json;

namespace Notifications.IntegrationTests.Api;

/// <summary>Reading the API's JSON answers in tests.</summary>
internal static class ApiJson
{
    /// <summary>GETs a route that must answer 200 and returns its body; a failure shows what came back instead.</summary>
    public static async Task<JsonElement> GetJsonAsync(HttpClient client, string route)
    {
        var response = await client.GetAsync(route, TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"{route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        return await ReadJsonAsync(response);
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
}
