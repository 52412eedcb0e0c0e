using System.Security.Cryptography;
using Kaapana.Core.Auth;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Kaapana.Server.Auth;

/// <summary>
/// Hashes a password against a throw-away hash made with the same hasher settings as real accounts, for sign-ins naming an
/// unknown user: they then cost what a wrong password for a real account costs, so the answer's timing does not tell
/// which user names exist.
/// </summary>
public sealed class DecoyPasswordCheck(IOptions<PasswordHasherOptions> options)
{
    private static readonly KaapanaUser Decoy = new("decoy");
    private readonly PasswordHasher<KaapanaUser> _hasher = new(options);
    private string? _hash;

    public void Verify(string password)
    {
        _hash ??= _hasher.HashPassword(Decoy, Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)));
        _hasher.VerifyHashedPassword(Decoy, _hash, password);
    }
}
