export function SubscriptionPage(props: { name: string }) {
  return <h1>{props.name}</h1>;
}
