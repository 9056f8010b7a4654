{% autoescape off %}{% comment %}
Rendered by onboarding.provisioning.script.render_script, which hands in every value
already quoted for PowerShell (single quotes, quotes doubled) and refuses line breaks:
nothing here may be interpolated in any other way. Never write an opening brace
right before a hash sign: Django takes the pair for the start of its own comment.
{% endcomment %}# register-app.ps1: registers the mailbox portal's app in the Microsoft 365 directory
# of {{ tenant_name }}.
#
# What it does, signed in as you, in your directory:
#   1. registers the application "{{ display_name_text }}" for your organisation only,
#      with the portal's redirect URIs and two Microsoft Graph application permissions,
#      Mail.Read and Mail.Send;
#   2. gives it the portal's certificate as its only credential: the public part only;
#   3. creates its service principal (the enterprise application);
#   4. grants it Mail.Read and Mail.Send: this is the admin consent.
# It ends by printing the app's IDs, to paste into step 1 of the portal.
#
# What it asks of you: the PowerShell module Microsoft.Graph.Applications, and to sign in
# as a Global Administrator or a Privileged Role Administrator (only they may grant
# Microsoft Graph's permissions; a Privileged Role Administrator must also be allowed to
# register applications). It asks for no password: you sign in in your browser.
#
# What the vendor then holds: the certificate's private key, which never left the portal.
# The script creates no client secret and no password.
#
# Try it first with -WhatIf: it signs you in and lists each change without making it.
#   .\register-app.ps1 -WhatIf
#   .\register-app.ps1
# (A downloaded script may need "Unblock-File .\register-app.ps1" first.)

[CmdletBinding(SupportsShouldProcess)]
param()

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# --- What the portal filled in for you --------------------------------------------------
$displayName = {{ display_name }}
# Where Microsoft may send a browser back to after a sign-in or the admin consent.
$redirectUris = @(
{% for uri in redirect_uris %}    {{ uri }}
{% endfor %})
# Microsoft Graph, and its Mail.Read and Mail.Send application permissions (the same IDs
# in every directory).
$graphAppId = '{{ graph_app_id }}'
$mailRead = '{{ mail_read }}'
$mailSend = '{{ mail_send }}'
# The portal's certificate, public part only (DER, base64): Entra keeps it to check the
# portal's signed sign-ins. Its dates are the certificate's own.
$certificate = @{
    Type          = 'AsymmetricX509Cert'
    Usage         = 'Verify'
    DisplayName   = {{ certificate_display_name }}
    Key           = [System.Convert]::FromBase64String({{ certificate_der }})
    StartDateTime = [System.DateTimeOffset]::Parse({{ not_before }}, [System.Globalization.CultureInfo]::InvariantCulture).UtcDateTime
    EndDateTime   = [System.DateTimeOffset]::Parse({{ not_after }}, [System.Globalization.CultureInfo]::InvariantCulture).UtcDateTime
}
# The application, as the portal's wizard would have you enter it by hand.
$registration = @{
    DisplayName            = $displayName
    SignInAudience         = {{ sign_in_audience }}
    Web                    = @{
        RedirectUris = $redirectUris
{% if implicit_tokens %}        ImplicitGrantSettings = @{ EnableAccessTokenIssuance = $true; EnableIdTokenIssuance = $true }
{% endif %}    }
{% if public_client %}    IsFallbackPublicClient = $true
{% endif %}    RequiredResourceAccess = @(
        @{
            ResourceAppId  = $graphAppId
            ResourceAccess = @(
                @{ Id = $mailRead; Type = 'Role' }
                @{ Id = $mailSend; Type = 'Role' }
{% for scope in delegated %}                @{ Id = '{{ scope }}'; Type = 'Scope' }
{% endfor %}            )
        }
    )
    KeyCredentials         = @($certificate)
}

# --- The Microsoft Graph PowerShell module ------------------------------------------------
if (-not (Get-Module -ListAvailable -Name Microsoft.Graph.Applications)) {
    Write-Host 'This script needs the PowerShell module Microsoft.Graph.Applications. Install it with:'
    Write-Host '    Install-Module Microsoft.Graph.Applications -Scope CurrentUser'
    Write-Host 'and run the script again.'
    exit 1
}
Import-Module Microsoft.Graph.Applications

# --- Sign in -------------------------------------------------------------------------------
# Interactive, in your browser: the script acts as you, with your roles, and holds no
# password or secret. Microsoft may first ask you to consent to "Microsoft Graph Command
# Line Tools" using these two permissions.
Connect-MgGraph {% if directory %}-TenantId {{ directory }} {% endif %}-Scopes {{ scopes }} -NoWelcome
$context = Get-MgContext
Write-Host ('Signed in as ' + $context.Account + ' to the directory ' + $context.TenantId + '.')

# Microsoft Graph's own service principal in your directory: the resource whose
# permissions are granted below. Looked up first, so nothing is created if it fails.
$graph = Get-MgServicePrincipal -Filter "appId eq '{{ graph_app_id }}'"
if (-not $graph) {
    throw 'Microsoft Graph''s service principal was not found in this directory.'
}

$app = $null
$servicePrincipal = $null
try {
    # Each change asks $PSCmdlet.ShouldProcess first: with -WhatIf it only says what it
    # would do. A step runs only once the one before it has made what it needs.
    if ($PSCmdlet.ShouldProcess($displayName, 'Register the application (New-MgApplication)')) {
        $app = New-MgApplication @registration
        Write-Host ('Registered the application ' + $app.DisplayName + ', Application (client) ID ' + $app.AppId + '.')
    }

    if ($PSCmdlet.ShouldProcess($displayName, 'Create its service principal (New-MgServicePrincipal)') -and $app) {
        $servicePrincipal = New-MgServicePrincipal -AppId $app.AppId
        Write-Host ('Created its service principal, object ' + $servicePrincipal.Id + '.')
    }

    # The admin consent: granting Microsoft Graph's app roles to the app's service
    # principal is what "Grant admin consent" does in the admin center. Microsoft lets
    # only a Global Administrator or a Privileged Role Administrator do it.
    Write-Host 'Granting Mail.Read and Mail.Send: this is the admin consent, and it needs a Global Administrator or a Privileged Role Administrator.'
    if ($PSCmdlet.ShouldProcess($displayName, 'Grant Microsoft Graph Mail.Read, application permission (admin consent)') -and $servicePrincipal) {
        $null = New-MgServicePrincipalAppRoleAssignedTo -ServicePrincipalId $graph.Id -PrincipalId $servicePrincipal.Id -ResourceId $graph.Id -AppRoleId $mailRead
    }
    if ($PSCmdlet.ShouldProcess($displayName, 'Grant Microsoft Graph Mail.Send, application permission (admin consent)') -and $servicePrincipal) {
        $null = New-MgServicePrincipalAppRoleAssignedTo -ServicePrincipalId $graph.Id -PrincipalId $servicePrincipal.Id -ResourceId $graph.Id -AppRoleId $mailSend
    }
}
catch {
    Write-Host ''
    Write-Host ('Stopped: ' + $_.Exception.Message)
    if ($app) {
        Write-Host ('Created so far: the application ' + $app.DisplayName + ' (Application (client) ID ' + $app.AppId + ', Object ID ' + $app.Id + ').')
        if ($servicePrincipal) {
            Write-Host ('And its service principal, object ' + $servicePrincipal.Id + '.')
        }
        Write-Host 'To remove what was created (a deleted application can be restored for 30 days):'
        if ($servicePrincipal) {
            Write-Host ('    Remove-MgServicePrincipal -ServicePrincipalId ' + $servicePrincipal.Id)
        }
        Write-Host ('    Remove-MgApplication -ApplicationId ' + $app.Id)
    }
    else {
        Write-Host 'Nothing was created.'
    }
    throw
}

if (-not ($app -and $servicePrincipal)) {
    Write-Host 'Nothing was changed.'
    exit 0
}

# The key ID Entra gave the certificate: "Certificate ID" under Certificates & secrets.
$certificateId = $app.KeyCredentials[0].KeyId
Write-Host ''
Write-Host 'Done. Microsoft may take a few minutes to give the app its new permissions.'
Write-Host 'Copy the lines below, from Essentials to Certificate ID, into the first field of step 1 in the portal:'
Write-Host ''
Write-Host 'Essentials'
Write-Host ('Display name : ' + $app.DisplayName)
Write-Host ('Application (client) ID : ' + $app.AppId)
Write-Host ('Object ID : ' + $app.Id)
Write-Host ('Directory (tenant) ID : ' + $context.TenantId)
Write-Host 'Supported account types : {% if implicit_tokens %}All Microsoft account users{% else %}My organization only{% endif %}'
Write-Host ('Certificate ID : ' + $certificateId)
{% endautoescape %}
