// The Entra admin center's deep links (/#view/Microsoft_AAD_RegisteredApps/...) open
// the emulated pages, so a portal pointed at the emulator links straight to them.
(function () {
  var prefix = "#view/Microsoft_AAD_RegisteredApps/";
  var hash = window.location.hash;
  if (hash.indexOf(prefix) !== 0) {
    return;
  }
  var view = hash.slice(prefix.length);
  var pages = { Overview: "", Authentication: "/authentication", CallAnAPI: "/permissions", Credentials: "/credentials" };
  var app = view.match(/^ApplicationMenuBlade\/~\/(\w+)\/appId\/([0-9a-fA-F-]{36})/);
  var target = "/entra/";
  if (view.indexOf("CreateApplicationBlade") === 0) {
    target = "/entra/apps/new";
  } else if (app && Object.prototype.hasOwnProperty.call(pages, app[1])) {
    target = "/entra/apps/" + app[2] + pages[app[1]];
  }
  window.location.replace(target);
})();
