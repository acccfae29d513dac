// Boots GraphiQL against this server's /graphql. A token signed in on the
// console (kept in this tab's session storage) goes with every request; an
// operation handed over by the console's "Show GraphQL" panel (also in
// session storage, never in the URL) fills the editor.
(function () {
  const token = sessionStorage.getItem("brand-gateway.token");
  const handed = JSON.parse(sessionStorage.getItem("brand-gateway.graphiql") || "null");
  sessionStorage.removeItem("brand-gateway.graphiql");
  const props = {
    // The signed-in token goes with every request, introspection included;
    // a header typed into the headers pane overrides it.
    fetcher: GraphiQL.createFetcher({
      url: "/graphql",
      headers: token ? { Authorization: "Bearer " + token } : {},
    }),
    defaultEditorToolsVisibility: true,
    defaultHeaders: token ? "" : JSON.stringify({ Authorization: "Bearer <token>" }, null, 2),
  };
  if (handed) {
    props.query = handed.query;
    props.variables = JSON.stringify(handed.variables || {}, null, 2);
  }
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, props));
})();
